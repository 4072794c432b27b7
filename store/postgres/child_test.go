package postgres_test

const envChild = "HR_PG_CHILD"

func runChild() int { return 0 }
