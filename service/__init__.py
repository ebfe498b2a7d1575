"""The composition root: settings, logging, and the process that runs the roles."""
