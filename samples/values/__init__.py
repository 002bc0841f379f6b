"""Plain values and how LabTrack reads and prints them: the accepted range of every time and
number (``bounds``), numbers typed at the bench (``numbers``), moments for people (``times``),
plate positions (``plates``). No database access."""
