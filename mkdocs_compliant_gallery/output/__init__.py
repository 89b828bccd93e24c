"""What reaches the site: directives, rendered cards, the serve preview, and the checks on the output (CG404, CG6xx)."""
