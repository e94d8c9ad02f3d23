"""The scorelang runtime: loads a rule table and turns events into scores. Standard library only."""
