"""Offline analysis of archived posts (``outage-radar analyze``): partitions read and annotated
by an engine, merged into one detection run, written out as files (see ``runner``)."""
