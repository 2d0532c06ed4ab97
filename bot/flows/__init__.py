"""Work that follows an ack: posting, fanning out and updating messages."""
