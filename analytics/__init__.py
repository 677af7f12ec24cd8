"""Analytics: visits, KPI rollups, reports, cohorts, profit, exports."""
