package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// RouteStore keeps outbound routes in the outbound_routes table, their dial patterns and trunks,
// in order, in route_patterns and route_trunks, and the users allowed to use them in
// route_users (see migrations/00012_trunks.sql). Trunks and users are referenced, so that a
// trunk or a user that does not exist, and a user deleted meanwhile, are found by the
// statements that store the route, without a race; a trunk a route uses cannot be deleted.
type RouteStore struct {
	DB *DB
}

var _ switchboard.RouteStore = (*RouteStore)(nil)

// routeColumns end with the patterns (as three lists, in order), the trunks in failover order
// and the users in the order of extensions, so that one query reads a whole route.
const routeColumns = `name, position, emergency, caller_id, created_at, updated_at,
	ARRAY(SELECT p.prefix FROM route_patterns p WHERE p.route_name = outbound_routes.name ORDER BY p.position),
	ARRAY(SELECT p.match FROM route_patterns p WHERE p.route_name = outbound_routes.name ORDER BY p.position),
	ARRAY(SELECT p.prepend FROM route_patterns p WHERE p.route_name = outbound_routes.name ORDER BY p.position),
	ARRAY(SELECT t.trunk_name FROM route_trunks t WHERE t.route_name = outbound_routes.name ORDER BY t.position),
	ARRAY(SELECT u.extension FROM route_users u WHERE u.route_name = outbound_routes.name
		ORDER BY char_length(u.extension), u.extension)`

func scanRoute(row pgx.Row) (switchboard.OutboundRoute, error) {
	var r switchboard.OutboundRoute
	var prefixes, matches, prepends []string
	err := row.Scan(&r.Name, &r.Position, &r.Emergency, &r.CallerID, &r.CreatedAt, &r.UpdatedAt,
		&prefixes, &matches, &prepends, &r.Trunks, &r.Users)
	for i := range prefixes {
		if i < len(matches) && i < len(prepends) {
			r.Patterns = append(r.Patterns, switchboard.DialPattern{Prefix: prefixes[i], Match: matches[i], Prepend: prepends[i]})
		}
	}
	if len(r.Trunks) == 0 {
		r.Trunks = nil
	}
	if len(r.Users) == 0 {
		r.Users = nil
	}
	return r, err
}

// CreateRoute inserts a route with its patterns, trunks and users in one transaction; ECONFLICT
// when a route has the name, EINVALID naming a trunk or a user that does not exist, or a
// pattern, trunk or user listed twice. Position 0 places the route after the last one (the
// highest position plus 10, 10 for the first route), computed by the statement that inserts it.
func (s *RouteStore) CreateRoute(ctx context.Context, r switchboard.OutboundRoute) (switchboard.OutboundRoute, error) {
	var created switchboard.OutboundRoute
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO outbound_routes (name, position, emergency, caller_id)
			VALUES ($1, CASE WHEN $2::integer = 0
				THEN least(coalesce((SELECT max(position) FROM outbound_routes), 0) + 10, 100000)
				ELSE $2::integer END, $3, $4)`, r.Name, r.Position, r.Emergency, r.CallerID)
		if err != nil {
			err = translate("insert route", err)
			if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
				return switchboard.Errorf(switchboard.ECONFLICT, "route %s already exists", r.Name)
			}
			return err
		}
		if err := writeRouteParts(ctx, tx, r.Name, r, switchboard.OutboundRoute{}); err != nil {
			return err
		}
		created, err = scanRoute(tx.QueryRow(ctx, `SELECT `+routeColumns+` FROM outbound_routes WHERE name = $1`, r.Name))
		return err
	})
	if err != nil {
		return switchboard.OutboundRoute{}, translate("create route", err)
	}
	return created, nil
}

// writeRouteParts stores those of the patterns, trunks and users of r that differ from before's
// (a new route's: none) in place of the route's. Each row is inserted by a statement of its
// own, in one round trip per part, so that the statement a constraint refuses names the
// pattern, trunk or user it refused.
func writeRouteParts(ctx context.Context, tx pgx.Tx, name string, r, before switchboard.OutboundRoute) error {
	if !slices.Equal(r.Patterns, before.Patterns) {
		err := replaceRows(ctx, tx, "route pattern", `DELETE FROM route_patterns WHERE route_name = $1`, name, len(r.Patterns),
			func(b *pgx.Batch, i int) {
				p := r.Patterns[i]
				b.Queue(`INSERT INTO route_patterns (route_name, position, prefix, match, prepend) VALUES ($1, $2, $3, $4, $5)`,
					name, i, p.Prefix, p.Match, p.Prepend)
			},
			func(i int, constraint string) error {
				if constraint == "route_patterns_unique" {
					return switchboard.Errorf(switchboard.EINVALID, "pattern %s is listed twice", patternName(r.Patterns[i]))
				}
				return nil
			})
		if err != nil {
			return err
		}
	}
	if !slices.Equal(r.Trunks, before.Trunks) {
		err := replaceRows(ctx, tx, "route trunk", `DELETE FROM route_trunks WHERE route_name = $1`, name, len(r.Trunks),
			func(b *pgx.Batch, i int) {
				b.Queue(`INSERT INTO route_trunks (route_name, position, trunk_name) VALUES ($1, $2, $3)`, name, i, r.Trunks[i])
			},
			func(i int, constraint string) error {
				switch constraint {
				case "route_trunks_trunk_name_fkey":
					return switchboard.Errorf(switchboard.EINVALID, "trunk %s does not exist", r.Trunks[i])
				case "route_trunks_pkey":
					return switchboard.Errorf(switchboard.EINVALID, "trunk %s is listed twice", r.Trunks[i])
				}
				return nil
			})
		if err != nil {
			return err
		}
	}
	if !slices.Equal(r.Users, before.Users) {
		err := replaceRows(ctx, tx, "route user", `DELETE FROM route_users WHERE route_name = $1`, name, len(r.Users),
			func(b *pgx.Batch, i int) {
				b.Queue(`INSERT INTO route_users (route_name, extension) VALUES ($1, $2)`, name, r.Users[i])
			},
			func(i int, constraint string) error {
				switch constraint {
				case "route_users_extension_fkey":
					return switchboard.Errorf(switchboard.EINVALID, "user %s does not exist", r.Users[i])
				case "route_users_pkey":
					return switchboard.Errorf(switchboard.EINVALID, "user %s is listed twice", r.Users[i])
				}
				return nil
			})
		if err != nil {
			return err
		}
	}
	return nil
}

// replaceRows deletes a route's rows of one part (clearRows, with the route's name as $1) and
// inserts n rows queued by insert, in one round trip. refused says what a constraint refusing
// row i means, or nil to leave the error to translate.
func replaceRows(ctx context.Context, tx pgx.Tx, what, clearRows, name string, n int,
	insert func(b *pgx.Batch, i int), refused func(i int, constraint string) error) error {
	if _, err := tx.Exec(ctx, clearRows, name); err != nil {
		return translate("clear "+what+"s", err)
	}
	if n == 0 {
		return nil
	}
	batch := &pgx.Batch{}
	for i := range n {
		insert(batch, i)
	}
	br := tx.SendBatch(ctx, batch)
	for i := range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			if mapped := refused(i, violatedConstraint(err)); mapped != nil {
				return mapped
			}
			return translate(fmt.Sprintf("insert %s %d", what, i+1), err)
		}
	}
	return translate("insert "+what+"s", br.Close())
}

// patternName writes a dial pattern the way trunk.go's documentation does: "9 + NXXXXXXXX", or
// "112" without a prefix.
func patternName(p switchboard.DialPattern) string {
	if p.Prefix == "" {
		return p.Match
	}
	return p.Prefix + " + " + p.Match
}

// Route returns one route with its patterns, trunks and users; ENOTFOUND when there is none.
func (s *RouteStore) Route(ctx context.Context, name string) (switchboard.OutboundRoute, error) {
	r, err := scanRoute(s.DB.pool.QueryRow(ctx, `SELECT `+routeColumns+` FROM outbound_routes WHERE name = $1`, name))
	if err != nil {
		return switchboard.OutboundRoute{}, routeNotFound(translate("select route", err), name)
	}
	return r, nil
}

// Routes returns every route in the order they are tried: by position, then by name (bytewise).
func (s *RouteStore) Routes(ctx context.Context) ([]switchboard.OutboundRoute, error) {
	rows, err := s.DB.pool.Query(ctx, `SELECT `+routeColumns+` FROM outbound_routes ORDER BY position, name COLLATE "C"`)
	if err != nil {
		return nil, translate("list routes", err)
	}
	routes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.OutboundRoute, error) { return scanRoute(r) })
	return routes, translate("list routes", err)
}

// UpdateRoute locks the route's row, applies change and writes the result in one transaction;
// the patterns, trunks and users are written again only when change gave other ones. The name
// is the row's key: a change to it is refused (EINVALID), and nothing is written. Position 0 is
// stored as it is (it places the route after the last one on create only).
func (s *RouteStore) UpdateRoute(ctx context.Context, name string, change func(*switchboard.OutboundRoute) error) (switchboard.OutboundRoute, error) {
	var updated switchboard.OutboundRoute
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		r, err := scanRoute(tx.QueryRow(ctx, `SELECT `+routeColumns+` FROM outbound_routes WHERE name = $1 FOR UPDATE`, name))
		if err != nil {
			return err
		}
		before := r
		before.Patterns, before.Trunks, before.Users = slices.Clone(r.Patterns), slices.Clone(r.Trunks), slices.Clone(r.Users)
		if err := change(&r); err != nil {
			return err
		}
		if r.Name != name {
			return switchboard.Errorf(switchboard.EINVALID, "the name of route %s cannot change", name)
		}
		if _, err := tx.Exec(ctx, `UPDATE outbound_routes SET position = $2, emergency = $3, caller_id = $4,
			updated_at = now() WHERE name = $1`, name, r.Position, r.Emergency, r.CallerID); err != nil {
			return err
		}
		if err := writeRouteParts(ctx, tx, name, r, before); err != nil {
			return err
		}
		updated, err = scanRoute(tx.QueryRow(ctx, `SELECT `+routeColumns+` FROM outbound_routes WHERE name = $1`, name))
		return err
	})
	if err != nil {
		return switchboard.OutboundRoute{}, routeNotFound(translate("update route", err), name)
	}
	return updated, nil
}

// DeleteRoute deletes a route with its patterns, trunks and users; ENOTFOUND when there is none.
func (s *RouteStore) DeleteRoute(ctx context.Context, name string) error {
	tag, err := s.DB.pool.Exec(ctx, `DELETE FROM outbound_routes WHERE name = $1`, name)
	if err != nil {
		return translate("delete route", err)
	}
	if tag.RowsAffected() == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no route named %s", name)
	}
	return nil
}

// routeNotFound gives a not-found error a message that names the route.
func routeNotFound(err error, name string) error {
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no route named %s", name)
	}
	return err
}
