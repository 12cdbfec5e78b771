package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-pbx/switchboard"
)

// RoomStore keeps conference rooms in the rooms table. Numbers are shared with users, ring
// groups and call queues through the numbers table (see migrations/00006_rooms.sql), so a clash
// with any of them is found by the same insert that stores the room, without a race.
type RoomStore struct {
	DB *DB
}

var (
	_ switchboard.RoomStore     = (*RoomStore)(nil)
	_ switchboard.RoomDirectory = (*RoomStore)(nil)
)

const roomColumns = `number, name, pin, moderator_pin, max_participants, announce_joins,
	music_when_alone, created_at, updated_at`

func scanRoom(row pgx.Row) (switchboard.Room, error) {
	var r switchboard.Room
	err := row.Scan(&r.Number, &r.Name, &r.PIN, &r.ModeratorPIN, &r.MaxParticipants, &r.AnnounceJoins,
		&r.MusicWhenAlone, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// roomValues are the stored columns of a room after number, in the order of roomColumns.
func roomValues(r switchboard.Room) []any {
	return []any{r.Name, r.PIN, r.ModeratorPIN, r.MaxParticipants, r.AnnounceJoins, r.MusicWhenAlone}
}

// CreateRoom inserts a room; ECONFLICT when a room, a user, a ring group or a call queue has the
// number.
func (s *RoomStore) CreateRoom(ctx context.Context, r switchboard.Room) (switchboard.Room, error) {
	row := s.DB.pool.QueryRow(ctx, `INSERT INTO rooms
		(number, name, pin, moderator_pin, max_participants, announce_joins, music_when_alone)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+roomColumns,
		append([]any{r.Number}, roomValues(r)...)...)
	created, err := scanRoom(row)
	if err != nil {
		err = translate("insert room", err)
		if switchboard.ErrorCode(err) == switchboard.ECONFLICT {
			return switchboard.Room{}, switchboard.Errorf(switchboard.ECONFLICT, "number %s is in use", r.Number)
		}
		return switchboard.Room{}, err
	}
	return created, nil
}

// Room returns one room; ENOTFOUND when there is none.
func (s *RoomStore) Room(ctx context.Context, number string) (switchboard.Room, error) {
	r, err := scanRoom(s.DB.pool.QueryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE number = $1`, number))
	if err != nil {
		return switchboard.Room{}, roomNotFound(translate("select room", err), number)
	}
	return r, nil
}

// Rooms returns every room ordered by (length, number). An office has a handful of rooms, so
// there are no pages.
func (s *RoomStore) Rooms(ctx context.Context) ([]switchboard.Room, error) {
	rows, err := s.DB.pool.Query(ctx, `SELECT `+roomColumns+` FROM rooms ORDER BY char_length(number), number`)
	if err != nil {
		return nil, translate("list rooms", err)
	}
	rooms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (switchboard.Room, error) { return scanRoom(r) })
	return rooms, translate("list rooms", err)
}

// UpdateRoom locks the room's row, applies change and writes the result in one transaction.
// The number is the row's key and is never written: a change to it is ignored.
func (s *RoomStore) UpdateRoom(ctx context.Context, number string, change func(*switchboard.Room) error) (switchboard.Room, error) {
	var updated switchboard.Room
	err := pgx.BeginFunc(ctx, s.DB.pool, func(tx pgx.Tx) error {
		r, err := scanRoom(tx.QueryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE number = $1 FOR UPDATE`, number))
		if err != nil {
			return err
		}
		if err := change(&r); err != nil {
			return err
		}
		updated, err = scanRoom(tx.QueryRow(ctx, `UPDATE rooms SET name = $2, pin = $3, moderator_pin = $4,
			max_participants = $5, announce_joins = $6, music_when_alone = $7, updated_at = now()
			WHERE number = $1 RETURNING `+roomColumns,
			append([]any{number}, roomValues(r)...)...))
		return err
	})
	if err != nil {
		return switchboard.Room{}, roomNotFound(translate("update room", err), number)
	}
	return updated, nil
}

// DeleteRoom deletes a room, freeing its number; ENOTFOUND when there is none.
func (s *RoomStore) DeleteRoom(ctx context.Context, number string) error {
	tag, err := s.DB.pool.Exec(ctx, `DELETE FROM rooms WHERE number = $1`, number)
	if err != nil {
		return translate("delete room", err)
	}
	if tag.RowsAffected() == 0 {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no room with number %s", number)
	}
	return nil
}

// roomNotFound gives a not-found error a message that names the room's number.
func roomNotFound(err error, number string) error {
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no room with number %s", number)
	}
	return err
}
