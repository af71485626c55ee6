"""The linalg breadth ops' cases for the shared tables of `ad_cases` (forward mode, gradcheck, node
names): (id, chainrule fn, torch fn, float64 arrays), the form of `ad_cases.NN_CASES`."""
CASES = []
