"""Read-only lookups: a client's services, a service's licences, who holds a number.

Read-only by construction: nothing here can open the dissociation dialog (no submitter,
no dialog page object is reachable from it), and a network guard aborts any request
that could change data.
"""
