"""Expert offloading: an expert cache in fast memory in front of a backing store (host DRAM over a
link, or flash), with LRU or score-based eviction and prefetch of predicted experts."""
