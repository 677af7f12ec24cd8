from config.charts import line_chart


def test_a_line_chart_scales_values_into_the_box():
    chart = line_chart([0, 10, 5], width=100, height=50, pad=0)
    assert chart.points == "0.0,50.0 50.0,0.0 100.0,25.0"
    assert (chart.low, chart.high) == (0, 10)


def test_flat_and_too_short_series():
    assert line_chart([3]) is None
    assert line_chart([4, 4], width=10, height=10, pad=0).points == "0.0,10.0 10.0,10.0"
