"""Batches: many cases through the one pipeline on worker processes, streaming, in input
order and resumable (`cmlkb batch`), on this machine (`pool`, a worker pool any front
door can reuse) or on a Dask cluster (`cluster`). This layer sits between the front doors
and the pipeline: it calls the pipeline's entry points and the audit store's
prepare/append, and prints nothing."""
