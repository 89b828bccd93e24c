"""What a build leaves behind for auditors: the publication log, takedown receipts and the status report."""
