// Placeholder entry point until the command table lands.
return 0;
