"""SMS providers behind one interface (see :mod:`surveys.sms.base`)."""
