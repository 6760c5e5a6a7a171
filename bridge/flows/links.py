"""The kinds of links the store keeps between records (``links.kind``)."""

CASE_WORK_ORDER = "case_work_order"  # case → wm_order
WORK_ORDER_TASK = "work_order_task"  # wm_order → wm_task
ORDER_CASE_LINE = "order_case_line"  # sn_order_case → sn_order_case_line
LINE_TASK = "order_line_task"  # sn_order_case_line → wm_task (written when FSM confirms it)
LINE_TASK_REQUESTED = "order_line_task_requested"  # sn_order_case_line → wm_order asked for it
LINE_WORK_ORDER = "order_case_line_work_order"  # sn_order_case → wm_order carrying its lines
#: a task's note → its wm_order, waiting for the work order's case (``attrs``: the note)
HELD_TASK_NOTE = "held_task_note"

#: Reference fields whose target's links the flows follow while handling the referencing record
#: (a task's work order → that work order's cases; a child's major case → its other children; a
#: work order's case → its other work orders). The batch reads the links of these targets with
#: its own records'; of any other referenced record (an account, a contact, a CI) it reads the
#: record only: a contact named by thousands of cases is not read link by link for each of them.
FOLLOWED_REFERENCES = frozenset({"parent", "initiated_from"})

CLOSED_WORK_ORDER_STATES = frozenset({"closed_complete", "closed_incomplete", "canceled"})
CASE_CLOSED_STATES = frozenset({"3", "7"})  # Closed, Canceled: nothing new starts from them
