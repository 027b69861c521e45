"""Pure analysis: statistics and decisions on plain arrays. No I/O, no ORM, no torch."""
