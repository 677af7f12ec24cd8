"""Inventory: warehouses, stock, the ledger, reservations, suppliers, purchase orders."""
