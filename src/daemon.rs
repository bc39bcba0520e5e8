//! The long-running service: schedules, polling, signals and systemd notification.
