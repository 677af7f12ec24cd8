"""Fulfillment: pick lists, packing, shipments, carriers, returns, delivery performance."""
