"""Who does what where: the 3W/5W list, coverage and gaps per area and sector, and people in need.

Between `estimate` and `report` in the layer order: it reads the estimates and the frame and writes the
`partner_*`, `coverage` and `pin` tables that the reports and exports read.
"""
