"""Cases: the unit of work, its lifecycle as an explicit state machine, and case grouping."""
