"""Helpers shared by the test suites: in-memory fakes of the ports, moto set-up, test images
and image records, upload forms, API Gateway events and the Lambda Runtime API double.

Test modules import from here, never from a ``conftest.py``; ``conftest.py`` files hold
fixtures only.
"""
