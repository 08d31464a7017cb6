# Lists the projects of one organisation. The first run logs in (OPENSOLAR_USERNAME, OPENSOLAR_PASSWORD); later
# runs reuse the stored token, refreshed first when it is due. The token reaches curl on standard input: on the
# command line, any user of the machine could read it with `ps`.
opensolar-auth token |
  sed 's/^/Authorization: Bearer /' |
  curl --fail --silent --show-error --header @- \
    "$OPENSOLAR_BASE_URL/api/orgs/$OPENSOLAR_ORG_ID/projects/"
echo
