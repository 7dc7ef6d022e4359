"""Suite-wide fixtures: real servers on loopback (SMTP, S3, SMS API) and the service under test."""

pytest_plugins = [
    "tests.fixtures.smtp",
    "tests.fixtures.s3",
    "tests.fixtures.sms_api",
    "tests.fixtures.aws",
    "tests.fixtures.webhook_receiver",
]
