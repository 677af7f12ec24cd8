"""Orders: carts, checkout, orders, payments, refunds, discounts, shipping, taxes, risk."""
