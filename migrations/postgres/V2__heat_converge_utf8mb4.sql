-- V2 makes heat-converge's tables take any Unicode value. On MySQL/MariaDB it converts
-- them to utf8mb4; here TEXT and VARCHAR already hold any Unicode text, so there is
-- nothing to change. The migration exists so that every backend has the same versions.
SELECT 1;
