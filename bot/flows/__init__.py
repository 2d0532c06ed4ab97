"""Work that follows an ack or builds a surface from several services."""
