"Public JSON API routes (filled below)."
