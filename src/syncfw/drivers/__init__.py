"""Builtin drivers with no service behind them: ``ics`` (files, folders) and ``memory``.

Each module is an ordinary plugin: it registers its driver through the
``syncfw_register_drivers`` hook, exactly as a third-party plugin would
(see ``syncfw.hooks.manager.DEFAULT_PLUGINS``).
"""
