"""The programme theory as data, and the scorecard that tests it against designed
experiments."""
