-- What a person wrote when asking to join an instance whose registrations need a
-- moderator's approval (instance.registrations = "approval"); empty otherwise.
ALTER TABLE users ADD COLUMN registration_reason text NOT NULL DEFAULT '';
