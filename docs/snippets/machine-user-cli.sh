# OPENSOLAR_BASE_URL, OPENSOLAR_USERNAME and OPENSOLAR_PASSWORD are set; see Getting started.
opensolar-auth login > /dev/null
opensolar-auth machine-user on
opensolar-auth whoami | grep -E '^(Machine user|Expires)'
