// Package postgres is the store on PostgreSQL.
package postgres
