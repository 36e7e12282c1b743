-- Placeholder for the number the ha-archive branch uses (shipped journal segments); replaced by its
-- migration when that branch is merged. Kept so that 009_fencing has no gap before it on this branch.
SELECT 1;
