"""Customer journeys: a trigger, then steps (send, wait, branch, split, update, webhook, exit) run for
each customer by leased workers, each step at most once per enrolment.

Importing the package registers its part in erasure (`erasure.py`), as any use of journeys imports it.
"""

from ccm.journeys import erasure as erasure
