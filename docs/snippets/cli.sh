# OPENSOLAR_BASE_URL, OPENSOLAR_USERNAME and OPENSOLAR_PASSWORD are set; see Getting started.
opensolar-auth login
opensolar-auth whoami
opensolar-auth refresh
TOKEN=$(opensolar-auth token)
echo "a token of ${#TOKEN} characters"
opensolar-auth --json whoami
opensolar-auth logout

# Errors are one line on standard error, and the exit code says which kind.
OPENSOLAR_PASSWORD=wrong opensolar-auth login 2>&1 || echo "exit code $?"
