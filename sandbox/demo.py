def fill(sandbox):
    return "demo: nothing yet"
