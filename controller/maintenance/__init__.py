"""The maintenance socket: gatectl talks to a running controller here (DESIGN section 7)."""
