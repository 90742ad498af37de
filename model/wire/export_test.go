package wire

// UnknownOffsetsFound exposes unknownOffsetsFound to the external tests.
var UnknownOffsetsFound = unknownOffsetsFound
