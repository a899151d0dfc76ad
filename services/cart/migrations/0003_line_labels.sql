-- What the shopper chose, in words ("Organic Crew Neck Tee (M, Olive)"), as
-- it was when added: said if the product is later no longer sold.
ALTER TABLE cart_items ADD COLUMN label TEXT NOT NULL DEFAULT '';
