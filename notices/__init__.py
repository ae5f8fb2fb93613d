"""What the customer is told about their order: one templated e-mail per business event, kept
as sent and shown on the customer's order page (issue 11, 'Contacting the customer')."""
