"""The workflow that runs the desk after a message arrives: routing rules, automatic replies
and closes, the out-of-hours reply, the skills bot, the assignment engine and agents' presence.

It sits above ``tickets`` and is called by it only through the hooks registered in
:meth:`workflow.apps.WorkflowConfig.ready` (see :mod:`tickets.hooks`)."""
