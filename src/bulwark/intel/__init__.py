"""Intel stage: signed threat indicators (derive, publish, subscribe) and k-of-n sentinel consensus."""
