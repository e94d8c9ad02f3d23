"""The scorelang compiler: checks a parsed model and lowers it to a rule table."""
