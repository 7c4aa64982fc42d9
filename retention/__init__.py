"""Each tenant's retention rules, holds, reviews and provable destruction."""
