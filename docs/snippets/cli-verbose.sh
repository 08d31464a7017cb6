# OPENSOLAR_BASE_URL, OPENSOLAR_USERNAME and OPENSOLAR_PASSWORD are set; see Getting started.
# What --verbose adds goes to standard error; the results on standard output are dropped here.
opensolar-auth --verbose login 2>&1 >/dev/null
opensolar-auth --verbose refresh 2>&1 >/dev/null
