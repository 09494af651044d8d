"""Mail: composing, sealing and sending messages through a job (`messages`), and the
flows that send them: email confirmation and change (`email_confirmation`), password
reset (`password_reset`), notification mails and their settings (`mail_notifications`)."""
