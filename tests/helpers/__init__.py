"""What several test modules share: factories, servers, fakes. Test modules import from here,
never from each other."""
