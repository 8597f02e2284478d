// Package dbtest holds test helpers shared by the database scope and its
// drivers: unique database names, service and tool requirements that skip
// (or fail under GITSNAP_REQUIRE_SERVICES=1), and a fake Runner. It must
// not import scopes/database, so that package's own tests can use it.
package dbtest
