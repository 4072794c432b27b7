package console

// Percent is percent, for the tests.
var Percent = percent
