# Indian digit grouping in every language: 2,00,000 (2 lakh), 4,77,00,000 (4.77 crore), as Indian readers expect.
THOUSAND_SEPARATOR = ","
DECIMAL_SEPARATOR = "."
NUMBER_GROUPING = (3, 2, 0)
