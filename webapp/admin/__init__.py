"""Administration pages: the dispatch policy and the surveys that need a person."""
